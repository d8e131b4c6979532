"""Models, one class per module, named as in the original package."""
from DL.models.HiddenLayer import HiddenLayer
from DL.models.LogisticRegression import LogisticRegression
from DL.models.ForwardFeed import ForwardFeed
from DL.models.MLP import MLP
from DL.models.DBN import DBN
from DL.models.EmbeddingLayer import EmbeddingLayer
from DL.models.MultiplicativeLayer import MultiplicativeLayer
from DL.models.RNN import RNN
from DL.models.MRNN import MRNN
from DL.models.LSTM import LSTM
from DL.models.USE import USE
from DL.models.MUSE import MUSE
from DL.models.SSE import SSE
from DL.models.EUSE import EUSE
from DL.models.ForwardFeedColumn import ForwardFeedColumn
from DL.models.DBNC import DBNC
