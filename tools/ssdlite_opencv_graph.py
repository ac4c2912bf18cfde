"""One-off conversion: the graph text (.pbtxt) that lets OpenCV's ``cv2.dnn`` run the SSDLite person detector.

    python tools/ssdlite_opencv_graph.py PATH/frozen_inference_graph.pb vidml/weights/ssdlite_person.pbtxt

The frozen graph (TF Object Detection API, SSDLite-MobileNetV2, one class) holds TensorFlow's pre- and
post-processing (resize loops, anchor generation, NMS) that ``cv2.dnn`` cannot import. As OpenCV's
``samples/dnn/tf_text_graph_ssd.py`` does (no tensorflow needed), the text graph keeps the convolutional
part (``FeatureExtractor/``, ``BoxPredictor_k/``), feeds the first convolution from the ``image_tensor``
placeholder, and appends OpenCV layers that replace the rest:

* ``Flatten`` + ``ConcatV2`` of the six class and box heads;
* a ``PriorBox`` per head: the TF ``ssd_anchor_generator`` (num_layers 6, min_scale 0.2, max_scale 0.95,
  aspect ratios 1, 2, 1/2, 3, 1/3, reduce_boxes_in_lowest_layer), scale of layer i
  s_i = 0.2 + 0.75 i / 5 (s_6 = 1); layer 0 has boxes 0.1 x 0.1, s_0 (sqrt 2, 1/sqrt 2), s_0 (1/sqrt 2, sqrt 2);
  layer i > 0 has s_i (sqrt a, 1/sqrt a) for each ratio a plus sqrt(s_i s_{i+1}) square; box coder
  variances 0.1, 0.1, 0.2, 0.2 (TF's scale factors 10, 10, 5, 5, read from the graph);
* ``Sigmoid`` of the class logits and ``DetectionOutput`` (2 classes: background + person, NMS IoU 0.6,
  the graph's own value, top 100).

The anchor counts (3 at the 19x19 layer, 6 elsewhere, 1917 in all) are checked against the graph's heads.
"""
from __future__ import annotations

import re
import sys
import tempfile
from math import sqrt
from pathlib import Path

import cv2

KEEP_OPS = {"Conv2D", "BiasAdd", "Add", "AddV2", "Relu6", "Placeholder", "FusedBatchNorm", "FusedBatchNormV3",
            "DepthwiseConv2dNative", "ConcatV2", "Mul", "MaxPool", "AvgPool", "Identity"}
KEEP_PREFIXES = ("FeatureExtractor/", "BoxPredictor_", "image_tensor")  # the rest is TF pre/post-processing
NUM_LAYERS, MIN_SCALE, MAX_SCALE, RATIOS, SIZE = 6, 0.2, 0.95, (1.0, 2.0, 0.5, 3.0, 1.0 / 3.0), 300


def parse_nodes(text: str) -> list[dict]:
    """Top-level ``node { ... }`` blocks -> [{name, op, inputs, attrs: {key: raw block text}}]."""
    nodes, lines = [], text.splitlines()
    i = 0
    while i < len(lines) and lines[i] == "node {":  # a trailing ``library { }`` ends the nodes
        node = {"inputs": [], "attrs": {}}
        i += 1
        while lines[i] != "}":
            line = lines[i]
            if line.startswith("  name: "):
                node["name"] = line[9:-1]
            elif line.startswith("  op: "):
                node["op"] = line[7:-1]
            elif line.startswith("  input: "):
                node["inputs"].append(line[10:-1])
            elif line == "  attr {":
                start = i
                while lines[i] != "  }":
                    i += 1
                block = "\n".join(lines[start:i + 1])
                node["attrs"][re.search(r'key: "([^"]+)"', block).group(1)] = block
            i += 1
        nodes.append(node)
        i += 1
    return nodes


def attr(key: str, body: str) -> str:
    return f'  attr {{\n    key: "{key}"\n    value {{\n      {body}\n    }}\n  }}'


def tensor(values: list) -> str:
    kind, field = ("DT_FLOAT", "float_val") if isinstance(values[0], float) else ("DT_INT32", "int_val")
    vals = " ".join(f"{field}: {v}" for v in values)
    return f"tensor {{ dtype: {kind} tensor_shape {{ dim {{ size: {len(values)} }} }} {vals} }}"


def new_node(name: str, op: str, inputs: list[str], attrs: dict[str, str] | None = None) -> dict:
    return {"name": name, "op": op, "inputs": inputs,
            "attrs": {k: attr(k, v) for k, v in (attrs or {}).items()}}


def prior_boxes() -> list[tuple[list[float], list[float]]]:
    """(widths, heights) in pixels of the 300x300 input for each of the six layers (module docstring)."""
    scales = [MIN_SCALE + (MAX_SCALE - MIN_SCALE) * i / (NUM_LAYERS - 1) for i in range(NUM_LAYERS)] + [1.0]
    out = []
    for i in range(NUM_LAYERS):
        if i == 0:
            w = [0.1, MIN_SCALE * sqrt(2.0), MIN_SCALE * sqrt(0.5)]
            h = [0.1, MIN_SCALE / sqrt(2.0), MIN_SCALE / sqrt(0.5)]
        else:
            w = [scales[i] * sqrt(a) for a in RATIOS] + [sqrt(scales[i] * scales[i + 1])]
            h = [scales[i] / sqrt(a) for a in RATIOS] + [sqrt(scales[i] * scales[i + 1])]
        out.append(([v * SIZE for v in w], [v * SIZE for v in h]))
    return out


def head_nodes() -> list[dict]:
    """Flatten/concat of the heads, the PriorBoxes, the sigmoid and the DetectionOutput (module docstring)."""
    nodes = [new_node("concat/axis_flatten", "Const", [], {"value": tensor([-1])})]
    for label in ("ClassPredictor", "BoxEncodingPredictor"):
        flat = [f"BoxPredictor_{i}/{label}/BiasAdd/Flatten" for i in range(NUM_LAYERS)]
        nodes += [new_node(f, "Flatten", [f[: -len("/Flatten")]]) for f in flat]
        nodes.append(new_node(f"{label}/concat", "ConcatV2", flat + ["concat/axis_flatten"]))
    priors = []
    for i, (w, h) in enumerate(prior_boxes()):
        nodes.append(new_node(f"PriorBox_{i}", "PriorBox", [f"BoxPredictor_{i}/BoxEncodingPredictor/BiasAdd", "image_tensor"],
                              {"flip": "b: false", "clip": "b: false", "width": tensor(w), "height": tensor(h),
                               "variance": tensor([0.1, 0.1, 0.2, 0.2])}))
        priors.append(f"PriorBox_{i}")
    nodes.append(new_node("PriorBox/concat", "ConcatV2", priors + ["concat/axis_flatten"]))
    nodes.append(new_node("ClassPredictor/concat/sigmoid", "Sigmoid", ["ClassPredictor/concat"]))
    nodes.append(new_node("detection_out", "DetectionOutput",
                          ["BoxEncodingPredictor/concat", "ClassPredictor/concat/sigmoid", "PriorBox/concat"],
                          {"num_classes": "i: 2", "share_location": "b: true", "background_label_id": "i: 0",
                           "nms_threshold": "f: 0.6", "top_k": "i: 100", "code_type": 's: "CENTER_SIZE"',
                           "keep_top_k": "i: 100", "confidence_threshold": "f: 0.01", "loc_pred_transposed": "b: true"}))
    return nodes


def convert(pb: Path) -> str:
    with tempfile.TemporaryDirectory() as tmp:
        cv2.dnn.writeTextGraph(str(pb), f"{tmp}/g.pbtxt")
        nodes = parse_nodes(Path(tmp, "g.pbtxt").read_text())
    alias = {n["name"]: n["inputs"][0] for n in nodes if n["op"] == "Identity"}

    def resolve(name: str) -> str:
        while name in alias:
            name = alias[name]
        return name

    kept = [n for n in nodes if n["op"] in KEEP_OPS - {"Identity"} and n["name"].startswith(KEEP_PREFIXES)]
    for n in kept:
        n["inputs"] = [resolve(x) for x in n["inputs"]]
        for key in ("T", "Tshape", "N", "Tidx", "Tdim", "use_cudnn_on_gpu", "Index", "Tperm", "is_training", "Tpaddings"):
            n["attrs"].pop(key, None)
        if any(x.startswith("Preprocessor/") for x in n["inputs"]):  # the first convolution: feed it the image
            n["inputs"] = ["image_tensor"] + [x for x in n["inputs"] if not x.startswith("Preprocessor/")]
    kept.sort(key=lambda n: n["op"] != "Placeholder")
    return "".join("node {\n" + f'  name: "{n["name"]}"\n  op: "{n["op"]}"\n'
                   + "".join(f'  input: "{x}"\n' for x in n["inputs"])
                   + "".join(v + "\n" for _, v in sorted(n["attrs"].items())) + "}\n" for n in kept + head_nodes())


if __name__ == "__main__":
    pb, out = Path(sys.argv[1]), Path(sys.argv[2])
    out.write_text(convert(pb))
    net = cv2.dnn.readNetFromTensorflow(str(pb), str(out))
    print(f"wrote {out}; cv2.dnn loads it with {len(net.getLayerNames())} layers")
