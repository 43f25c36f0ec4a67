import { render } from 'preact';
import { App } from './app.js';
import { cart } from './state.js';
// biome-ignore lint/correctness/useImportExtensions: a stylesheet for esbuild, not a module
import './styles.css';

cart.connect();
render(<App />, document.getElementById('app')!);
