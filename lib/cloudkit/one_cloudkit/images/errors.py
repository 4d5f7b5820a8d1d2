"""Errors of the image repository; each carries the 1.4 message."""

from __future__ import annotations

from one_core.errors import MessageError


class ImageError(MessageError):
    """Base of the repository errors; ``str()`` is the message to show."""


class ImageNotFound(ImageError):
    """No image with that id (1.4: ``Image not found``)."""

    def __init__(self, image_id: object = None):
        super().__init__("Image not found")
        self.image_id = image_id


class ImageNotOwned(ImageError):
    """The image belongs to another user (1.4: ``Not permited to use image``, sic)."""

    def __init__(self, image_id: object = None):
        super().__init__("Not permited to use image")
        self.image_id = image_id


class MalformedImageId(ImageError):
    """An id that is neither ``<n>`` nor ``ami-<n>``."""

    def __init__(self, text: str):
        super().__init__(f"Invalid id: {text!r}")
        self.text = text


class UploadTooLarge(ImageError):
    """The upload exceeded the repository's size limit; nothing was stored."""

    def __init__(self, limit: int):
        super().__init__(f"Image larger than the limit of {limit} bytes")
        self.limit = limit


class UploadFailed(ImageError):
    """The upload could not be stored (I/O error, incomplete body); nothing was stored."""
