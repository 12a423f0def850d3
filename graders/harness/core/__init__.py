"""What every grade rests on: the manifest (`curriculum`), the result model (`results`), the worker process
that runs student code (`worker`) and the grader's handle on it (`student`), and what probes use inside the
worker (`probing`); with them the wire format (`protocol`), what differs between systems (`platform`), facts
read from outside the worker (`observe`), mutants, owners of scratch resources and settings for property
graders. Imports only the standard library, pytest and hypothesis: nothing else of the harness."""
