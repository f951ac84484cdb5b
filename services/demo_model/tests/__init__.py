"""Tests of the demo model, mirroring oasis_demo_model/ module by module, plus the HTTP integration tests."""
