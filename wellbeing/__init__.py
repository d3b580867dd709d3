"""feedwell wellbeing."""
