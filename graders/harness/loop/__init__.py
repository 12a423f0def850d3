"""The student's loop around checks: `watch` (check again on every save), `hints` (hints in levels) and
`progress` (every topic's saved score). May import `core` and `views`."""
