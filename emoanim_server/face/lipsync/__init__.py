"""Lip-sync, read as a pipeline (Rhubarb-style): recognise phones -> viseme targets ->
coarticulated articulator curves -> ARKit mouth/jaw curves."""
from .phones import Phone, PhoneTimeline
from .recognize import Recognizer, get_recognizer
from .animate import animate_mouth

__all__ = ["Phone", "PhoneTimeline", "Recognizer", "get_recognizer", "animate_mouth"]
