"""OpenAPI schema generation (drf-spectacular), adapted to the house style of one
API view per operation with nested `InputSerializer`/`OutputSerializer` classes."""

import re

from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema
from drf_spectacular.utils import inline_serializer
from rest_framework import serializers


class AutoSchema(SpectacularAutoSchema):
    def get_serializer_name(self, serializer, direction):
        """`MemberListAPI.OutputSerializer` becomes the component `MemberListOutput`:
        nested serializers are named after their view, so every view's `OutputSerializer`
        gets a component of its own instead of colliding on "Output"."""
        qualname = type(serializer).__qualname__
        if "." not in qualname:
            return super().get_serializer_name(serializer, direction)
        outer, inner = qualname.rsplit(".", 1)
        outer = re.sub(r"(API|Api|View|ViewSet)$", "", outer.split(".")[-1])
        return outer + inner


def paginated(serializer_class, name: str):
    """The schema of a page of `serializer_class` as DRF's PageNumberPagination sends it.

    drf-spectacular adds this by itself only for generic list views; our APIViews
    paginate by hand, so their operations declare it with this.
    """
    return inline_serializer(
        name,
        {
            "count": serializers.IntegerField(),
            "next": serializers.URLField(allow_null=True),
            "previous": serializers.URLField(allow_null=True),
            "results": serializer_class(many=True),
        },
    )
