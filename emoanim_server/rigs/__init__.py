"""Rigs: how canonical ARKit-52 curves are named and retargeted on output."""
from .arkit import NAMING_STYLES, arkit_name, parse_arkit_name
from .mapping import Rig, load_rig, rig_from_json

__all__ = ["NAMING_STYLES", "arkit_name", "parse_arkit_name", "Rig", "load_rig", "rig_from_json"]
