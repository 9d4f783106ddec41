"""Model files changed for one test: the same model saved again with other metadata."""
import nn


def resaved(path, tmp_path, model=None, **metadata):
    """The model file at ``path`` saved again with some metadata entries replaced (None: removed)."""
    loaded, saved_metadata = nn.load(path)
    changed = {key: value for key, value in (saved_metadata | metadata).items() if value is not None}
    return nn.save(model or loaded, tmp_path / "changed.npz", metadata=changed)
