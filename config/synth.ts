import { declarePlatform } from './declaration.ts';

// `tsx config/synth.ts [outdir]`: prints (or writes) the validated manifest of this repository's declaration.
const outdir = process.argv[2];
const app = declarePlatform();
if (outdir) {
  console.log(app.synthToFile(outdir));
} else {
  console.log(JSON.stringify(app.synth(), null, 2));
}
