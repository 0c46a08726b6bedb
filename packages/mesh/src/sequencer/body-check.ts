import { MAX_TOPIC_BYTES } from '../frame/constants.js';
import { MeshError } from '../errors.js';
import { fitsAfterStamp, isJsonObjectText } from './stamp.js';

export function invalidBody(topic: string, why: string): MeshError {
  return new MeshError('WSE_ERR_MESH_INVALID_BODY', why, { topic });
}

export function oversize(topic: string): MeshError {
  return new MeshError('WSE_ERR_MESH_OVERSIZE', 'message does not fit a mesh frame after stamping', { topic });
}

/** §E.a: the originator checks the body before sending (and the owner again before stamping). */
export function validateBody(topicBytes: number, body: Buffer, topic: string): MeshError | null {
  if (topicBytes > MAX_TOPIC_BYTES) return invalidBody(topic, 'topic must be at most 65535 bytes');
  if (!isJsonObjectText(body)) return invalidBody(topic, 'body must be a JSON object');
  if (!fitsAfterStamp(body.length, topicBytes)) return oversize(topic);
  return null;
}
