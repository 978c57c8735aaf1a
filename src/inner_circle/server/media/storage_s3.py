"""S3-compatible object storage (AWS S3, MinIO, SeaweedFS, ...) through aioboto3.

Downloads go straight to the store: :meth:`presign` hands out presigned GET URLs that
carry our Content-Type and Content-Disposition choices (``response-content-*``).
"""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncIterator, Sequence
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import aioboto3
from botocore.config import Config
from botocore.exceptions import ClientError

__all__ = ["S3MediaStore"]

CHUNK = 256 * 1024
PART = 8 * 1024 * 1024  # S3 parts are at least 5 MB (but the last)


def _read_part(source: Path, offset: int) -> bytes:
    with source.open("rb") as handle:
        handle.seek(offset)
        return handle.read(PART)


class S3MediaStore:
    def __init__(
        self,
        *,
        endpoint: str | None,
        bucket: str,
        region: str,
        access_key: str | None,
        secret_key: str | None,
        prefix: str = "",
        presign: bool = True,
    ) -> None:
        self.bucket = bucket
        self.presigning = presign
        self.prefix = prefix
        self._session = aioboto3.Session(
            aws_access_key_id=access_key,
            aws_secret_access_key=secret_key,
            region_name=region,
        )
        self._endpoint = endpoint
        self._stack = AsyncExitStack()
        self._client: Any = None

    async def _s3(self) -> Any:
        if self._client is None:
            config = Config(signature_version="s3v4", s3={"addressing_style": "path"})
            self._client = await self._stack.enter_async_context(
                self._session.client("s3", endpoint_url=self._endpoint, config=config)
            )
        return self._client

    async def ensure_bucket(self) -> None:
        s3 = await self._s3()
        try:
            await s3.head_bucket(Bucket=self.bucket)
        except ClientError:
            await s3.create_bucket(Bucket=self.bucket)

    async def put(self, key: str, source: Path, content_type: str) -> None:
        """Streamed from the file one part at a time (a part in memory, never the file):
        small files in one PUT, larger ones as a multipart upload."""
        s3 = await self._s3()
        name = self.prefix + key
        size = (await asyncio.to_thread(source.stat)).st_size
        if size <= PART:
            body = await asyncio.to_thread(source.read_bytes)
            await s3.put_object(
                Bucket=self.bucket, Key=name, Body=io.BytesIO(body), ContentType=content_type
            )
            return
        started = await s3.create_multipart_upload(
            Bucket=self.bucket, Key=name, ContentType=content_type
        )
        upload_id = started["UploadId"]
        parts = []
        try:
            for number, offset in enumerate(range(0, size, PART), start=1):
                chunk = await asyncio.to_thread(_read_part, source, offset)
                answer = await s3.upload_part(
                    Bucket=self.bucket, Key=name, UploadId=upload_id,
                    PartNumber=number, Body=io.BytesIO(chunk),
                )  # fmt: skip
                parts.append({"PartNumber": number, "ETag": answer["ETag"]})
            await s3.complete_multipart_upload(
                Bucket=self.bucket, Key=name, UploadId=upload_id,
                MultipartUpload={"Parts": parts},
            )  # fmt: skip
        except BaseException:
            await s3.abort_multipart_upload(Bucket=self.bucket, Key=name, UploadId=upload_id)
            raise

    async def size(self, key: str) -> int | None:
        s3 = await self._s3()
        try:
            head = await s3.head_object(Bucket=self.bucket, Key=self.prefix + key)
        except ClientError:
            return None
        return int(head["ContentLength"])

    async def read(self, key: str, start: int, end: int) -> AsyncIterator[bytes]:
        s3 = await self._s3()
        answer = await s3.get_object(
            Bucket=self.bucket, Key=self.prefix + key, Range=f"bytes={start}-{end}"
        )
        body = answer["Body"]
        try:
            async for chunk in body.iter_chunks(CHUNK):
                yield chunk
        finally:
            body.close()

    async def delete(self, keys: Sequence[str]) -> None:
        if not keys:
            return
        s3 = await self._s3()
        await s3.delete_objects(
            Bucket=self.bucket,
            Delete={"Objects": [{"Key": self.prefix + k} for k in keys], "Quiet": True},
        )

    async def presign(
        self, key: str, *, expires_in: int, content_type: str, disposition: str | None
    ) -> str | None:
        if not self.presigning:
            return None  # served through our signed route (a store browsers cannot reach)
        s3 = await self._s3()
        params: dict[str, str] = {
            "Bucket": self.bucket,
            "Key": self.prefix + key,
            "ResponseContentType": content_type,
            "ResponseCacheControl": f"private, max-age={expires_in}, immutable",
        }
        if disposition:
            params["ResponseContentDisposition"] = disposition
        url: str = await s3.generate_presigned_url(
            "get_object", Params=params, ExpiresIn=expires_in
        )
        return url

    async def close(self) -> None:
        await self._stack.aclose()
        self._client = None
