"""What every grade rests on: the manifest (`curriculum`), the result model (`results`), the worker process
that runs student code (`worker`) and the grader's handle on it (`student`), and what probes use inside the
worker (`probing`). Imports only the standard library and pytest: nothing else of the harness."""
