"""SQL topics: named statements from the student's `.sql` files, run as a database user who may touch only a
scratch database, judged by the rows they return (`statements`) or the state they leave (`state`).
May import `core` and `services`."""
