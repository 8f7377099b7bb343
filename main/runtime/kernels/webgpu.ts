/**
 * WebGPU execution provider kernels for the ops Sprout emits. Which ops exist and for which opsets: the
 * registration table of onnxruntime/core/providers/webgpu/webgpu_execution_provider.cc (microsoft/onnxruntime,
 * the newest copy at hand: it registers ScatterND 18, RMSNormalization 23 and the enable_int64 kernel registries,
 * so the 1.2x series; not compared with the 1.29.0 tag itself). Element types: webgpu_supported_types.h defines
 * the provider's number types as float, float16, int32 and uint32 (no int64, no bfloat16, no float64), and
 * binary_elementwise_ops.cc, shape_op.cc and identity.cc register with them; ops whose own file was not read are
 * given float and float16 only, the narrower set, so that the check errs towards reporting a CPU node.
 * Without the provider option enableInt64, Cast, Range, Unsqueeze and Expand have no int64 kernels either.
 * Not registered at all: Mod, ConstantOfShape, Max, LogSoftmax, Size.
 */
import type { ElementType, KernelTable } from './types.js';

const NUM: ElementType[] = ['float32', 'float16', 'int32', 'uint32'];
const FLOAT: ElementType[] = ['float32', 'float16'];
const IND: ElementType[] = ['int32', 'int64'];

const same = (from: number, types: ElementType[], to?: number) => [{ from, to, inputs: ['T', 'T', 'T'], types: { T: types } }];

export const WEBGPU_KERNELS: KernelTable = {
  provider: 'webgpu',
  source: 'microsoft/onnxruntime onnxruntime/core/providers/webgpu/webgpu_execution_provider.cc (registrations) + webgpu_supported_types.h',
  ops: {
    Add: same(14, NUM),
    Sub: same(14, NUM),
    Mul: same(14, NUM),
    Div: same(14, NUM),
    Pow: [{ from: 15, inputs: ['T', 'T1'], types: { T: NUM, T1: NUM } }],
    Neg: same(13, FLOAT),
    Sqrt: same(13, FLOAT),
    Reciprocal: same(13, FLOAT),
    Exp: same(13, FLOAT),
    Log: same(13, FLOAT),
    Tanh: same(13, FLOAT),
    Sigmoid: same(13, FLOAT),
    Relu: same(14, FLOAT),
    Greater: [{ from: 13, inputs: ['T', 'T'], types: { T: NUM } }],
    GreaterOrEqual: [{ from: 16, inputs: ['T', 'T'], types: { T: NUM } }],
    Equal: [{ from: 13, to: 18, inputs: ['T', 'T'], types: { T: NUM } }],
    Where: [{ from: 16, inputs: ['B', 'T', 'T'], types: { B: ['bool'], T: NUM } }],
    Cast: [{ from: 13, to: 18, inputs: ['T1'], outputs: ['T2'], types: { T1: [...NUM, 'bool'], T2: [...NUM, 'bool'] } }],
    MatMul: same(13, FLOAT),
    Gemm: same(13, FLOAT),
    Softmax: same(13, FLOAT),
    ReduceSum: [{ from: 13, inputs: ['T', ''], types: { T: FLOAT } }],
    ReduceMax: [{ from: 13, to: 17, inputs: ['T'], types: { T: FLOAT } }],
    ReduceMean: [{ from: 13, to: 17, inputs: ['T'], types: { T: FLOAT } }],
    ReduceProd: [{ from: 13, to: 17, inputs: ['T'], types: { T: FLOAT } }],
    ArgMax: [{ from: 13, inputs: ['T'], types: { T: FLOAT } }],
    Identity: [{ from: 16, to: 18, inputs: ['T'], types: { T: NUM } }],
    Shape: [{ from: 15, to: 18, inputs: ['T'], types: { T: NUM } }],
    Reshape: [{ from: 14, to: 18, inputs: ['T', ''], types: { T: NUM } }],
    Expand: [{ from: 13, inputs: ['T', ''], types: { T: NUM } }],
    Transpose: [{ from: 13, to: 20, inputs: ['T'], types: { T: NUM } }],
    Squeeze: [{ from: 13, to: 20, inputs: ['T', ''], types: { T: NUM } }],
    Unsqueeze: [{ from: 13, to: 20, inputs: ['T', ''], types: { T: NUM } }],
    Concat: [{ from: 13, inputs: ['T', 'T', 'T', 'T', 'T', 'T', 'T', 'T'], types: { T: NUM } }],
    Slice: [{ from: 13, inputs: ['T', 'Tind', 'Tind', 'Tind', 'Tind'], types: { T: NUM, Tind: IND } }],
    Pad: [{ from: 13, to: 17, inputs: ['T', ''], types: { T: FLOAT } }],
    Gather: [{ from: 13, inputs: ['T', 'Tind'], types: { T: NUM, Tind: IND } }],
    GatherElements: [{ from: 13, inputs: ['T', 'Tind'], types: { T: NUM, Tind: IND } }],
    ScatterElements: [{ from: 16, to: 17, inputs: ['T', 'Tind', 'T'], types: { T: FLOAT, Tind: IND } }],
    ScatterND: [{ from: 16, to: 17, inputs: ['T', '', 'T'], types: { T: FLOAT } }],
    Range: [{ from: 11, inputs: ['T', 'T', 'T'], types: { T: ['float32', 'int32'] } }],
    CumSum: [{ from: 14, inputs: ['T', ''], types: { T: FLOAT } }],
  },
};
