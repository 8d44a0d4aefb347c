"""run_module entry point: the same commands as run_command's ``probe.cli.main()``."""

from probe.cli import main

# A spawn worker imports this module again as __mp_main__: only the real __main__ runs.
if __name__ == "__main__":
    main()
