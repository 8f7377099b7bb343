/**
 * CUDA execution provider kernels for the ops Sprout emits, read from onnxruntime's generated
 * docs/OperatorKernels.md ("Operators implemented by CUDAExecutionProvider") of microsoft/onnxruntime at commit
 * 001d12d2623fd411ce0f83d05abb5e82304a3389, the newest copy at hand (it lists Cast 23+, Attention 24 and
 * RMSNormalization 23, so onnxruntime 1.22 or later; it was not compared with the 1.29.0 tag itself, which the
 * device check's placement log settles on a real GPU). Only registrations whose opset range contains 17 matter:
 * Sprout's graphs are opset 17. float8/float4/int4/int16/uint16/uint64 types are left out.
 */
import type { ElementType, KernelTable } from './types.js';

const ALL: ElementType[] = ['bfloat16', 'bool', 'float64', 'float32', 'float16', 'int32', 'int64', 'int8', 'uint32', 'uint8'];
const ARITH: ElementType[] = ['bfloat16', 'float64', 'float32', 'float16', 'int32', 'int64', 'int8', 'uint32', 'uint8'];
const FLOATS_BF16: ElementType[] = ['bfloat16', 'float64', 'float32', 'float16'];
const FLOATS: ElementType[] = ['float64', 'float32', 'float16'];
const COMPARE: ElementType[] = ['float64', 'float32', 'float16', 'int32', 'int64', 'uint32'];
const IND: ElementType[] = ['int32', 'int64'];

const same = (from: number, types: ElementType[], to?: number) => [{ from, to, inputs: ['T', 'T', 'T'], types: { T: types } }];

export const CUDA_KERNELS: KernelTable = {
  provider: 'cuda',
  source: 'microsoft/onnxruntime docs/OperatorKernels.md @ 001d12d2623fd411ce0f83d05abb5e82304a3389, CUDAExecutionProvider',
  ops: {
    Add: same(14, ARITH),
    Sub: same(14, ARITH),
    Mul: same(14, ARITH),
    Div: same(14, ARITH),
    Neg: same(13, ['bfloat16', 'float64', 'float32', 'float16', 'int32', 'int64', 'int8']),
    Pow: [
      {
        from: 15,
        inputs: ['T', 'T1'],
        types: {
          T: ['bfloat16', 'float64', 'float32', 'float16', 'int32', 'int64'],
          T1: ['bfloat16', 'float64', 'float32', 'float16', 'int32', 'int64'],
        },
      },
    ],
    Sqrt: same(13, FLOATS_BF16),
    Reciprocal: same(13, FLOATS),
    Exp: same(13, FLOATS_BF16),
    Log: same(13, FLOATS),
    Tanh: same(13, FLOATS_BF16),
    Sigmoid: same(13, FLOATS),
    Relu: same(14, FLOATS_BF16),
    Mod: same(13, ['bfloat16', 'float64', 'float32', 'float16', 'int32', 'int64', 'uint32']),
    Max: same(13, ['bfloat16', 'float64', 'float32', 'float16', 'int32', 'int64', 'uint32']),
    Greater: [{ from: 13, inputs: ['T', 'T'], types: { T: COMPARE } }],
    GreaterOrEqual: [{ from: 16, inputs: ['T', 'T'], types: { T: COMPARE } }],
    Equal: [{ from: 13, inputs: ['T', 'T'], types: { T: ['bool', ...COMPARE] } }],
    Where: [
      {
        from: 16,
        inputs: ['B', 'T', 'T'],
        types: { B: ['bool'], T: ['bfloat16', 'float64', 'float32', 'float16', 'int32', 'int64', 'uint8'] },
      },
    ],
    ConstantOfShape: [{ from: 9, inputs: ['T1'], outputs: ['T2'], types: { T1: ['int64'], T2: ALL } }],
    Cast: [{ from: 13, to: 18, inputs: ['T1'], outputs: ['T2'], types: { T1: ALL, T2: ALL } }],
    MatMul: same(13, FLOATS_BF16),
    Gemm: same(13, FLOATS_BF16),
    Softmax: same(13, FLOATS_BF16),
    LogSoftmax: same(13, FLOATS),
    ReduceSum: [{ from: 13, inputs: ['T', ''], types: { T: ['bfloat16', 'float64', 'float32', 'float16', 'int32', 'int64'] } }],
    ReduceMax: [{ from: 1, to: 17, inputs: ['T'], types: { T: FLOATS } }],
    ReduceMean: [{ from: 1, to: 17, inputs: ['T'], types: { T: ['float64', 'float32', 'float16', 'int32'] } }],
    ReduceProd: [{ from: 1, to: 17, inputs: ['T'], types: { T: ['float64', 'float32', 'float16', 'int32'] } }],
    ArgMax: [{ from: 13, inputs: ['T'], types: { T: FLOATS } }],
    Identity: [{ from: 14, to: 18, inputs: ['T'], types: { T: ALL } }],
    Shape: [{ from: 15, to: 18, inputs: ['T'], types: { T: ALL } }],
    Reshape: [{ from: 14, to: 18, inputs: ['T', ''], types: { T: ALL } }],
    Expand: [{ from: 13, inputs: ['T', ''], types: { T: ALL } }],
    Transpose: [{ from: 13, to: 20, inputs: ['T'], types: { T: ALL } }],
    Squeeze: [{ from: 13, to: 20, inputs: ['T', ''], types: { T: ALL } }],
    Unsqueeze: [{ from: 13, to: 20, inputs: ['T', ''], types: { T: ALL } }],
    Concat: [{ from: 13, inputs: ['T', 'T', 'T', 'T', 'T', 'T', 'T', 'T'], types: { T: ALL } }],
    Slice: [{ from: 13, inputs: ['T', 'Tind', 'Tind', 'Tind', 'Tind'], types: { T: ALL, Tind: IND } }],
    Pad: [{ from: 13, to: 17, inputs: ['T', ''], types: { T: ['bool', 'float64', 'float32', 'float16'] } }],
    Gather: [{ from: 13, inputs: ['T', 'Tind'], types: { T: ALL, Tind: IND } }],
    GatherElements: [{ from: 13, inputs: ['T', 'Tind'], types: { T: ALL, Tind: IND } }],
    ScatterElements: [{ from: 16, to: 17, inputs: ['T', 'Tind', 'T'], types: { T: ALL, Tind: IND } }],
    ScatterND: [{ from: 16, to: 17, inputs: ['T', '', 'T'], types: { T: ALL } }],
    Range: [{ from: 11, inputs: ['T', 'T', 'T'], types: { T: ['float64', 'float32', 'int32', 'int64'] } }],
    CumSum: [{ from: 14, inputs: ['T', 'T2'], types: { T: ['float64', 'float32', 'float16', 'int32', 'int64', 'uint32'], T2: IND } }],
    Size: [{ from: 13, inputs: ['T'], types: { T: ALL } }],
  },
};
