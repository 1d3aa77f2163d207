"""The DP-SGD accountant: sampled Gaussian RDP against numerical integration."""

import math

import numpy as np
import pytest
from scipy import integrate, stats

from unlearn.llm.dp import calibrate_sigma, dpsgd_epsilon, sgm_rdp


def _rdp_numeric(q, sigma, alpha):
    """D_alpha( (1-q) N(0,s²) + q N(1,s²) || N(0,s²) ) by quadrature."""
    def f(x):
        mu0 = stats.norm.pdf(x, 0, sigma)
        mix = (1 - q) * mu0 + q * stats.norm.pdf(x, 1, sigma)
        return mu0 * (mix / mu0) ** alpha
    val, _ = integrate.quad(f, -30 * sigma - 5, 30 * sigma + 5, limit=400, points=[0, 1])
    return math.log(val) / (alpha - 1)


@pytest.mark.parametrize("q, sigma, alpha", [(0.1, 1.0, 2), (0.05, 2.0, 8), (0.3, 1.5, 5),
                                             (1.0, 3.0, 4), (0.01, 0.8, 16)])
def test_sgm_rdp_matches_numerical_integral(q, sigma, alpha):
    assert sgm_rdp(q, sigma, alpha) == pytest.approx(_rdp_numeric(q, sigma, alpha), rel=1e-6)


def test_gaussian_limit_and_monotonicity():
    assert sgm_rdp(1.0, 2.0, 6) == pytest.approx(6 / 8)
    e = [dpsgd_epsilon(q=0.1, sigma=s, steps=100, delta=1e-5) for s in (0.8, 1.0, 2.0, 4.0)]
    assert np.all(np.diff(e) < 0)
    e = [dpsgd_epsilon(q=q, sigma=1.0, steps=100, delta=1e-5) for q in (0.01, 0.05, 0.2)]
    assert np.all(np.diff(e) > 0)
    assert dpsgd_epsilon(q=0.1, sigma=1.0, steps=200, delta=1e-5) > dpsgd_epsilon(
        q=0.1, sigma=1.0, steps=100, delta=1e-5)


def test_calibrate_sigma_hits_the_target():
    s = calibrate_sigma(8.0, q=0.16, steps=300, delta=1e-5)
    assert dpsgd_epsilon(q=0.16, sigma=s, steps=300, delta=1e-5) <= 8.0
    assert dpsgd_epsilon(q=0.16, sigma=s * 0.99, steps=300, delta=1e-5) > 8.0


@pytest.mark.parametrize("kwargs, match", [
    ({"q": 0.0, "sigma": 1.0, "alpha": 2}, "q"),
    ({"q": 0.1, "sigma": -1.0, "alpha": 2}, "sigma"),
    ({"q": 0.1, "sigma": 1.0, "alpha": 1}, "alpha"),
    ({"q": 0.1, "sigma": 1.0, "alpha": 2.5}, "alpha"),
])
def test_bad_input(kwargs, match):
    with pytest.raises(ValueError, match=match):
        sgm_rdp(**kwargs)
    with pytest.raises(ValueError, match="epsilon"):
        calibrate_sigma(0.0, q=0.1, steps=10, delta=1e-5)
