"""Glass Box: the library that the book's chapters import."""

__version__ = "0.1.0"
