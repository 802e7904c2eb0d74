"""Networks shared by several test modules."""

#: A small network with every layer kind: circular and zero-padded convs, pwl and spatial
#: activations, two pools and the classifier.
SMALL_NET = {"name": "tiny", "dataset": "random", "input": {"channels": 2, "size": 16},
             "layers": [{"type": "conv", "out_channels": 6, "kernel": 3},
                        {"type": "act"}, {"type": "pool", "size": 8},
                        {"type": "conv", "out_channels": 8, "kernel": 3, "padding": "zero"},
                        {"type": "act", "kind": "spatial"}, {"type": "pool", "size": 4},
                        {"type": "dense", "classes": 5}]}
