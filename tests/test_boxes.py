"""Box conversions and IoU against hand-computed values."""
import numpy as np
import pytest

from vidml.boxes import check_box_in_frame, clip_xywh, iou_pairs_xywh, iou_xywh, parse_box, xywh_to_cxcywh, cxcywh_to_xywh
from vidml.errors import BadInput


def test_iou_hand_checked():
    a = np.array([[0, 0, 10, 10]])
    b = np.array([[5, 5, 10, 10], [0, 0, 10, 10], [20, 20, 5, 5], [0, 0, 10, 5]])
    # overlap 5x5=25, union 100+100-25=175; identical; disjoint; half
    assert iou_xywh(a, b)[0] == pytest.approx([25 / 175, 1.0, 0.0, 0.5])
    assert iou_pairs_xywh(np.repeat(a, 4, 0), b) == pytest.approx([25 / 175, 1.0, 0.0, 0.5])


def test_conversions_round_trip():
    b = np.array([[3.0, 4.0, 10.0, 20.0]])
    assert xywh_to_cxcywh(b)[0] == pytest.approx([8, 14, 10, 20])
    assert cxcywh_to_xywh(xywh_to_cxcywh(b)) == pytest.approx(b)
    assert clip_xywh(np.array([-5.0, -5, 20, 20]), (10, 10)) == pytest.approx([0, 0, 10, 10])


def test_parse_and_check_boxes():
    assert parse_box("1,2,3,4") == pytest.approx([1, 2, 3, 4])
    for bad in ["1,2,3", "a,b,c,d", "1,2,3,nan"]:
        with pytest.raises(BadInput):
            parse_box(bad)
    check_box_in_frame(np.array([10, 10, 5, 5]), (100, 100))
    with pytest.raises(BadInput, match="outside"):
        check_box_in_frame(np.array([200, 10, 5, 5]), (100, 100))
    with pytest.raises(BadInput, match="size"):
        check_box_in_frame(np.array([10, 10, 0, 5]), (100, 100))
