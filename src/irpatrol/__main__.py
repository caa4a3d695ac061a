"""``python -m irpatrol``: the same as the ``irpatrol`` command."""

from irpatrol.cli import main

if __name__ == "__main__":
    main()
