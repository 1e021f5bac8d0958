"""Civic Input: the public question-and-answer record of human-rights dialogues."""

__version__ = "0.1.0"
