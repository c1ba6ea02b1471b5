"""Reference solutions for the exercises (folded away in the book behind a dropdown)."""
