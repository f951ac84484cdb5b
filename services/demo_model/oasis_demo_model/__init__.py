"""oasis-demo: a deterministic, OpenAI-compatible stand-in for a language model. It is not an AI."""

MODEL_ID = "oasis-demo"
DISPLAY_NAME = "Oasis demo model (deterministic, not an AI)"
# Every summary the model writes starts with this, so nobody mistakes its output for an AI's.
LABEL = "Oasis demo model (deterministic, not an AI)"
# Sent on every HTTP response, so a captured exchange is labelled too.
LABEL_HEADER = ("x-oasis-demo", "deterministic demo model, not an AI")
