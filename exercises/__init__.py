"""Exercise stubs: fill these in, then check them with `check(fn)` or `pytest tests/exercises --impl exercises`."""
