"""The image repository shared by the cloud front-ends (econe, OCCI): spec cloud-apis §2.

::

    from one_cloudkit.images import ImageRepository, ImageNotFound, ImageNotOwned
"""

from one_cloudkit.images.errors import (
    ImageError,
    ImageNotFound,
    ImageNotOwned,
    MalformedImageId,
    UploadFailed,
    UploadTooLarge,
)
from one_cloudkit.images.repository import ImageRecord, ImageRepository, Upload, parse_image_id

__all__ = [
    "ImageError",
    "ImageNotFound",
    "ImageNotOwned",
    "ImageRecord",
    "ImageRepository",
    "MalformedImageId",
    "Upload",
    "UploadFailed",
    "UploadTooLarge",
    "parse_image_id",
]
