"""Expected-gradients SHAP (captum's GradientShap) of the softmax output, its baselines drawn from test
images, as in Boychev's reference code; `shap_samples` baseline-and-path-point draws per image."""

from __future__ import annotations

from captum.attr import GradientShap
from torch import Tensor, nn

from irbench.explain.methods import AttributionMethod, AttributionRequest, SoftmaxOutput, register


def expected_gradients(
    model: nn.Module, x: Tensor, target: Tensor, baselines: Tensor, *, samples: int = 32
) -> Tensor:
    """Expected-gradients SHAP attributions of the softmax output, baselines from the test set."""
    shap = GradientShap(SoftmaxOutput(model).eval())
    return shap.attribute(x, baselines=baselines, n_samples=samples, stdevs=0.0, target=target).detach()


def explain(r: AttributionRequest) -> Tensor:
    return expected_gradients(r.model, r.x, r.target, r.baselines, samples=r.spec["shap_samples"])


METHOD = register(
    AttributionMethod(
        key="shap",
        label="SHAP",
        explain=explain,
        description="expected-gradients SHAP of the softmax output, test images as baselines",
        required=("shap_samples",),
        settings={"shap_samples": {"$ref": "#/$defs/positive_int"}},
    )
)
