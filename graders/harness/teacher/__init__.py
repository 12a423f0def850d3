"""The teacher's side: `export` writes the students' repository (no solutions, mutants or hidden graders),
`gradebook` grades a class, `coverage` maps the course outline to the tasks that grade it. May import `core`,
`services` and `views`."""
