"""Background tasks of the builder (django-tasks, queued in the database)."""

from django_tasks import task

from generations import runner


@task(queue_name="generations")
def run_generation(generation_id: str) -> None:
    runner.generation_run(generation_id=generation_id)
