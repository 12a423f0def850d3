"""The teacher's side: `export` writes the students' repository (no solutions, mutants or hidden graders),
`gradebook` grades a class. May import `core`, `services` and `views`."""
