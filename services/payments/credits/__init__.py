"""Credits: each user's account, the ledger every change is posted to, and holds on credits."""
