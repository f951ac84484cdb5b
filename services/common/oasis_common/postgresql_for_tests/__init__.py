"""The test suites' PostgreSQL backend: ours, emptying tables between tests with DELETE."""
