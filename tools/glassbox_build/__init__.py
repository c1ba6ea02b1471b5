"""The machinery that delivers the book, not part of the library readers install: the book's configuration and
chapter order (`book`), the Colab notebooks (`notebooks`, `myst`, `colab`), the exercise blocks of a chapter
(`exercise_blocks`) and the checks on the built site (`sitecheck`). Installed beside `glassbox` only where the book
is built (`make book`: `pip install -e tools`)."""
