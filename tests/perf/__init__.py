"""On-demand benchmarks of the audit log. Not tests: nothing here asserts a timing, and pytest
does not collect this folder (``norecursedirs``). See README.md beside this file."""
