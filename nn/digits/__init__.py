"""The digits application: document 003's classification of handwritten digits.

Its modules, in the order the data flows through them:

* ``data``      the 1,797 8x8 digits shipped with scikit-learn, one-hot targets, standardised pixels;
* ``recipes``   the networks (the 64-30-10 MLP, a small CNN, document 003's own setting) and
  how each is trained;
* ``config``    every setting of a run, checked;
* ``training``  split, standardise, fit, evaluate;
* ``metrics``   accuracy and the confusion matrix;
* ``classifier`` a saved model classifying new 8x8 images;
* ``plotting``  the loss curves and a grid of the misclassified test digits.
"""
from nn.digits.classifier import DigitsClassifier
from nn.digits.config import ARCHITECTURES, MIN_DIGITS, DigitsConfig, SplitError, check_split
from nn.digits.data import CLASSES, COUNT, PIXELS, Digits, Standardizer, load_digits, one_hot
from nn.digits.metrics import accuracy, confusion_matrix, format_confusion
from nn.digits.plotting import plot_formats, plot_training
from nn.digits.recipes import RECIPES, Recipe, recipe_for
from nn.digits.training import APPLICATION, DigitsResult, TrainingError, classify, train

__all__ = [
    "APPLICATION", "ARCHITECTURES", "CLASSES", "COUNT", "DigitsClassifier", "DigitsConfig", "DigitsResult", "Digits",
    "MIN_DIGITS", "PIXELS", "RECIPES", "Recipe", "SplitError", "Standardizer", "TrainingError", "accuracy",
    "check_split", "classify", "confusion_matrix", "format_confusion", "load_digits", "one_hot", "plot_formats",
    "plot_training", "recipe_for", "train",
]
