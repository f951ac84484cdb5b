"""oasis_common: the small platform library every Imagi Oasis service installs."""
