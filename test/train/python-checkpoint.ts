import { execFileSync } from 'node:child_process';
import type { EvalRecord } from '../../main/train/trainer-state.js';

/** A Sprout checkpoint read as safetensors by hand with python3 (struct, json, numpy): per-step losses and evaluations. */
export function pythonCheckpoint(file: string): { losses: number[]; evals: EvalRecord[] } {
  const script = `import json,struct,sys
import numpy as np
f=open(sys.argv[1],'rb'); n=struct.unpack('<Q',f.read(8))[0]; h=json.loads(f.read(n))
t=h['losses']; f.seek(8+n+t['data_offsets'][0])
losses=np.frombuffer(f.read(t['data_offsets'][1]-t['data_offsets'][0]),dtype='<f4').astype(float).tolist()
print(json.dumps({'losses':losses,'evals':json.loads(h['__metadata__']['state'])['evals']}))`;
  return JSON.parse(execFileSync('python3', ['-c', script, file], { encoding: 'utf8' }));
}
