/**
 * One error type for the mesh. `code` is stable: tests, log fields and metric labels use it.
 */
export type MeshErrorCode =
  | 'WSE_ERR_MESH_BAD_FRAME'
  | 'WSE_ERR_MESH_FRAME_TOO_LARGE'
  | 'WSE_ERR_MESH_BAD_HELLO'
  | 'WSE_ERR_MESH_VERSION'
  | 'WSE_ERR_MESH_AUTH'
  | 'WSE_ERR_MESH_TIEBREAK'
  | 'WSE_ERR_MESH_DUPLICATE'
  | 'WSE_ERR_MESH_TIMEOUT'
  | 'WSE_ERR_MESH_CONNECT'
  | 'WSE_ERR_MESH_DECOMPRESS'
  | 'WSE_ERR_MESH_OVERFLOW'
  | 'WSE_ERR_MESH_INVALID_BODY'
  | 'WSE_ERR_MESH_OVERSIZE'
  | 'WSE_ERR_MESH_PUBLISH_REJECTED'
  | 'WSE_ERR_MESH_STOPPED'
  | 'WSE_ERR_MESH_CONFIG';

export class MeshError extends Error {
  readonly code: MeshErrorCode;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: MeshErrorCode, message: string, details?: Record<string, unknown>, cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = 'MeshError';
    this.code = code;
    this.details = details;
  }
}
