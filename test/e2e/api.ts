import type { OperationName, RequestOf, ResponseOf } from '../../preload/contract.js';
import type { RunningServe } from '../serve/spawn-serve.js';

/** One contract operation over `sprout serve`'s HTTP API, as the page calls it; a failure throws its message. */
export async function callApi<K extends OperationName>(serve: RunningServe, name: K, request: RequestOf<K>): Promise<ResponseOf<K>> {
  const response = await fetch(`${serve.base}/api/${name}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${serve.token}` },
    body: JSON.stringify(request),
  });
  const envelope = (await response.json()) as { ok: boolean; value: ResponseOf<K>; error?: { message: string } };
  if (!envelope.ok) throw new Error(`${name}: ${envelope.error?.message}`);
  return envelope.value;
}
