"""dlgrade's engine. It holds nothing hidden: answers, references and hidden checks live in the
course's ``solutions/`` directory, which this package only reads when told where it is."""

__version__ = "0.1.0"
