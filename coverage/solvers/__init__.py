"""Exact facility-location solvers (MILP, HiGHS through ``scipy.optimize.milp``).

Built spopt-style ``from_cost_matrix`` (clients × candidate sites, minutes, ``np.inf`` when
unreachable) and returning plain numpy arrays.
"""

from coverage.solvers.base import SolverResult
from coverage.solvers.capacitated import CapacitatedPMedian
from coverage.solvers.lscp import LSCP
from coverage.solvers.mclp import MCLP
from coverage.solvers.pmedian import PMedian

__all__ = ["SolverResult", "PMedian", "CapacitatedPMedian", "MCLP", "LSCP"]
