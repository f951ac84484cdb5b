"""A tiny app that gives the platform library real views, a model and a database to work on."""
