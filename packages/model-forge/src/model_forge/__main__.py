"""``python -m model_forge``: the ``model-forge`` command line as a module.

This is the form launchers take a module in: ``accelerate launch -m model_forge train ...``,
``torchrun -m model_forge train ...`` (``docs/scale-out.md``); the loop's
``--launcher accelerate`` runs each round's training so.
"""

from model_forge.cli import main

if __name__ == "__main__":
    main(prog_name="model-forge")
