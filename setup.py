"""Build hook: ship the repository's ``models/`` and ``proto/`` inside the package.

Why: the models (``models/*.onnx`` + their cards) and the wire contract (``proto/emoanim.proto``)
live at the top of the repository, outside the ``emoanim_server`` package, so plain package-data
cannot reach them. A wheel built without this hook installs a package whose ``--body`` bake fails
and whose ``emoanim info`` lists no model. At run time :mod:`emoanim_server.models` finds the
copies in ``emoanim_server/_models``; ``tests/test_packaging.py`` checks a real wheel.
Everything else (metadata, dependencies) is in pyproject.toml.
"""
import glob
import os
import shutil

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = os.path.dirname(os.path.abspath(__file__))
#: (source glob relative to the repository, destination folder inside the package)
SHIPPED = [("models/*.onnx", "_models"), ("models/*.json", "_models"), ("models/*.md", "_models"),
           ("proto/*.proto", "")]


class BuildPyWithData(build_py):
    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            return  # an editable install reads models/ and proto/ from the checkout itself
        for pattern, dest in SHIPPED:
            for src in sorted(glob.glob(os.path.join(HERE, pattern))):
                out_dir = os.path.join(self.build_lib, "emoanim_server", dest)
                os.makedirs(out_dir, exist_ok=True)
                shutil.copyfile(src, os.path.join(out_dir, os.path.basename(src)))


setup(cmdclass={"build_py": BuildPyWithData})
