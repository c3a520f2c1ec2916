"""Stage 2, beside the lookups: read the uploads a check names (the applicant's own scans),
each in a worker thread while the registries are asked. A file that cannot be read becomes an
upload with its reason, never a failed check."""

from __future__ import annotations

import asyncio

import anyio.to_thread

from matcher.catalog.matters import Matter
from matcher.errors import ExtractionError, InputError
from matcher.extract.pipeline import Extractor
from matcher.store.files import FileStore, StoredFile
from matcher.waiver.payloads import Upload, WaiveCheckRequest
from matcher.waiver.uploads import ReadUpload

__all__ = ["UploadReader"]


class UploadReader:
    """Checks and reads a request's uploads; without an extractor and a file store, a request
    that names uploads is refused."""

    def __init__(self, extractor: Extractor | None, files: FileStore | None) -> None:
        self.extractor = extractor
        self.files = files

    def check(self, matter: Matter, request: WaiveCheckRequest) -> None:
        """Every upload names a required material of the matter, once."""
        if not request.uploads:
            return
        if self.extractor is None or self.files is None:
            raise InputError("本服务未启用上传材料比对", field="uploads")
        required = {m.code for m in matter.materials if m.required}
        seen: set[str] = set()
        for i, upload in enumerate(request.uploads):
            if upload.material_code not in required:
                raise InputError(
                    f"事项 {matter.code} 没有需提交的材料 {upload.material_code}",
                    field=f"uploads[{i}].material_code",
                )
            if upload.material_code in seen:
                raise InputError(
                    f"材料 {upload.material_code} 重复上传", field=f"uploads[{i}].material_code"
                )
            seen.add(upload.material_code)

    async def read(self, request: WaiveCheckRequest, requester: str) -> dict[str, ReadUpload]:
        """Material code → the upload as read (its fields, or why it could not be read)."""
        if not request.uploads:
            return {}
        assert self.extractor is not None and self.files is not None
        extractor, files = self.extractor, self.files
        stored = []
        for i, upload in enumerate(request.uploads):
            found = await anyio.to_thread.run_sync(files.get, requester, upload.file_id)
            if found is None:
                raise InputError(
                    f"文件 {upload.file_id} 不存在或已过保存期限", field=f"uploads[{i}].file_id"
                )
            stored.append((upload, found))

        async def read(upload: Upload, found: StoredFile) -> ReadUpload:
            try:
                extraction = await anyio.to_thread.run_sync(
                    lambda: extractor.extract(
                        found.data, filename=found.filename, declared_type=found.media_type
                    )
                )
            except ExtractionError as exc:
                return ReadUpload(upload.material_code, upload.file_id, None, str(exc))
            return ReadUpload(upload.material_code, upload.file_id, extraction)

        results = await asyncio.gather(*(read(u, f) for u, f in stored))
        return {r.material_code: r for r in results}
