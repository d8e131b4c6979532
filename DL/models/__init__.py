"""Models, one class per module, named as in the original package."""
from DL.models.HiddenLayer import HiddenLayer
from DL.models.LogisticRegression import LogisticRegression
from DL.models.ForwardFeed import ForwardFeed
from DL.models.MLP import MLP
from DL.models.DBN import DBN
