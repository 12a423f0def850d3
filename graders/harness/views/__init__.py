"""The one result model, rendered: the terminal (`terminal`), and GitHub's job summary and annotations,
Classroom, Gradescope and exercism (`reports`). May import `core` only: a view never grades."""
