import { render } from 'preact';
import { App } from './app.js';
import { cart } from './state.js';
import './styles.css';

cart.connect();
render(<App />, document.getElementById('app')!);
