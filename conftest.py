"""pytest configuration shared by the unit tests and nbval.

Notebooks run under pytest in quick mode (AUTOENC_QUICK=1), unless the caller set the variable;
their kernels inherit this environment.
"""

import os

os.environ.setdefault("AUTOENC_QUICK", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
