"""`manage.py check_ledger`: exit non-zero, naming each one, if any balance disagrees with the ledger."""

from django.core.management.base import BaseCommand, CommandError

from credits.audit import ledger_check


class Command(BaseCommand):
    help = (
        "Verify that every account's cached balance and held credits equal the sums of its "
        "ledger entries and open holds, and that no hold took more than was available."
    )

    def handle(self, *args, **options):
        problems = ledger_check()
        for problem in problems:
            self.stderr.write(problem)
        if problems:
            raise CommandError(f"The ledger disagrees with the accounts in {len(problems)} place(s).")
        self.stdout.write("The ledger and the accounts agree.")
