"""Energy to accuracy: the frequency network (each activation kind) and the spatial CNN of
the same layer shapes, trained to a target test accuracy and priced on the cycle model.

Modules: :mod:`.designs` (what is compared), :mod:`.accuracy` (training to a target),
:mod:`.costs` (one iteration on the cycle model, equal multipliers and equal area),
:mod:`.run` (a network's comparison as a JSON-ready record), :mod:`.report` (tables),
:mod:`.cache` (accuracies for ``simulate`` and ``sweep``).
"""
