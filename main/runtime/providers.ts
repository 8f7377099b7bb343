/** What onnxruntime-node says about execution providers, without creating a session. */
import { env, listSupportedBackends } from 'onnxruntime-node';

export interface ProviderListing {
  onnxruntimeVersion: string;
  /** Every provider this onnxruntime-node build knows; unbundled ones need their libraries installed. */
  providers: { name: string; bundled: boolean }[];
  /** onnxruntime runs a session on CPU unless told otherwise. */
  defaultProvider: string;
}

export function listProviders(): ProviderListing {
  return {
    onnxruntimeVersion: env.versions.node ?? env.versions.common,
    providers: listSupportedBackends().map((b) => ({ name: b.name, bundled: b.bundled })),
    defaultProvider: 'cpu',
  };
}
